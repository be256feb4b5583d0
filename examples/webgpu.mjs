import { initBackend, setBackend, tensor } from 'aiayn';

// node examples/webgpu.mjs (on this GPU-less machine: Debian's chromium + libvulkan1 give SwiftShader)
setBackend(await initBackend('webgpu'));        // throws, naming why, when no adapter is found
const x = tensor([[1, 2], [3, 4]]).matmul(tensor([[0.5], [-1]]));
console.log(await x.data());                    // Float32Array(2) [ -1.5, -2.5 ]
