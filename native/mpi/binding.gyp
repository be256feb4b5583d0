{
  "targets": [
    {
      "target_name": "aiayn_mpi",
      "sources": ["collective.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "OMPI_SKIP_MPICXX", "MPICH_SKIP_MPICXX"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "<!@(mpicc --showme:compile)"],
      "libraries": ["<!@(mpicc --showme:link)", "-ldl"]
    }
  ]
}
