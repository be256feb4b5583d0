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
        "native/addon.cc",
        "native/args.cc",
        "native/elementwise.cc",
        "native/reduce.cc",
        "native/gemm.cc",
        "native/softmax.cc",
        "native/layernorm.cc",
        "native/loss.cc",
        "native/embedding_adam.cc",
        "native/dropout.cc",
        "native/decoder_step.cc",
        "native/attention.cc",
        "native/signals.cc",
        "native/vmath.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["-fopenmp", "-fexceptions"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl"]
    },
    {
      "target_name": "aiayn_vmath_avx2",
      "type": "static_library",
      "sources": ["native/vmath_avx2.cc"],
      "cflags_cc": ["-fopenmp-simd"],
      "conditions": [["target_arch=='x64'", {"cflags_cc": ["-mavx2", "-mfma"]}]]
    },
    {
      "target_name": "aiayn_vmath_avx512",
      "type": "static_library",
      "sources": ["native/vmath_avx512.cc"],
      "cflags_cc": ["-fopenmp-simd"],
      "conditions": [["target_arch=='x64'", {"cflags_cc": ["-mavx512f", "-mavx512dq", "-mavx512vl", "-mavx2", "-mfma"]}]]
    }
  ]
}
