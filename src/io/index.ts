// Reading and writing tensors on disk: the safetensors format.
export {
  readSafetensors, loadSafetensors, writeSafetensors, saveSafetensors, MAX_HEADER_BYTES,
  type SafetensorsDType, type SafetensorsTensor, type SafetensorsContents, type SafetensorsInput,
} from './safetensors.js';
