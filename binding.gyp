{
  "target_defaults": {
    "cflags!": ["-fno-exceptions", "-O2", "-O0"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-O2", "-O0"],
    "cflags_cc": ["-std=c++17", "-O3", "-fno-trapping-math", "-fno-math-errno"]
  },
  "targets": [
    {
      "target_name": "aiayn_native",
      "dependencies": ["aiayn_vmath_avx2", "aiayn_vmath_avx512"],
      "sources": [
        "native/napi/addon.cc",
        "native/napi/read.cc",
        "native/napi/bind_elementwise.cc",
        "native/napi/bind_reduce.cc",
        "native/napi/bind_gemm.cc",
        "native/napi/bind_nn.cc",
        "native/napi/bind_attention.cc",
        "native/napi/bind_decoder_step.cc",
        "native/kernels/elementwise.cc",
        "native/kernels/reduce.cc",
        "native/kernels/gemm.cc",
        "native/kernels/nn_softmax.cc",
        "native/kernels/nn_layernorm.cc",
        "native/kernels/nn_loss.cc",
        "native/kernels/nn_dropout.cc",
        "native/kernels/nn_embedding.cc",
        "native/kernels/nn_adam.cc",
        "native/kernels/attention.cc",
        "native/kernels/decoder_step.cc",
        "native/kernels/signals.cc",
        "native/simd/vmath.cc"
      ],
      "include_dirs": ["native", "<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["-fopenmp", "-fexceptions"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl"]
    },
    {
      "target_name": "aiayn_vmath_avx2",
      "type": "static_library",
      "sources": ["native/simd/vmath_avx2.cc"],
      "include_dirs": ["native"],
      "cflags_cc": ["-fopenmp-simd"],
      "conditions": [["target_arch=='x64'", {"cflags_cc": ["-mavx2", "-mfma"]}]]
    },
    {
      "target_name": "aiayn_vmath_avx512",
      "type": "static_library",
      "sources": ["native/simd/vmath_avx512.cc"],
      "include_dirs": ["native"],
      "cflags_cc": ["-fopenmp-simd"],
      "conditions": [["target_arch=='x64'", {"cflags_cc": ["-mavx512f", "-mavx512dq", "-mavx512vl", "-mavx2", "-mfma"]}]]
    }
  ]
}
