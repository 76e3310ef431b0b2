{
  # The native backend. Portable code is compiled for the baseline ISA; each SIMD level's kernels live in their
  # own static library with their own flags and are picked at run time (native/cpu.cc), so the addon runs on any
  # x86-64 (and builds the portable kernels alone elsewhere). Never -march=native: the build must run on machines
  # other than the one it was built on.
  "variables": {
    "graft_cflags": ["-O3", "-fno-math-errno", "-fno-trapping-math", "-fvisibility=hidden"],
  },
  "target_defaults": {
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-O2"],
    "cflags": ["<@(graft_cflags)"],
    "cflags_cc": ["-std=gnu++17", "-fexceptions"],
    "xcode_settings": {
      "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
      "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
      "OTHER_CFLAGS": ["<@(graft_cflags)"],
    },
    "msvs_settings": {"VCCLCompilerTool": {"ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17", "/O2"]}},
  },
  "targets": [
    {
      "target_name": "graft_portable",
      "type": "static_library",
      "sources": ["native/cpu.cc", "native/threadpool.cc", "native/kernels/vec_portable.cc", "native/kernels/attention_portable.cc"],
      "cflags": ["-fPIC"],
    },
    {
      "target_name": "graft_avx2",
      "type": "static_library",
      "conditions": [
        ["target_arch=='x64' or target_arch=='ia32'", {
          "sources": ["native/kernels/gemm_avx2.cc", "native/kernels/vec_avx2.cc", "native/kernels/attention_avx2.cc", "native/kernels/gemm_bf16_avx2.cc", "native/kernels/qgemm_avx2.cc"],
          "cflags": ["-fPIC", "-mavx2", "-mfma", "-mf16c"],
          "xcode_settings": {"OTHER_CFLAGS": ["-mavx2", "-mfma", "-mf16c"]},
          "msvs_settings": {"VCCLCompilerTool": {"AdditionalOptions": ["/arch:AVX2"]}},
        }, {
          "sources": ["native/kernels/isa_absent.cc"],
          "defines": ["GRAFT_ABSENT_AVX2"],
        }],
      ],
    },
    {
      "target_name": "graft_avx512",
      "type": "static_library",
      "conditions": [
        ["target_arch=='x64'", {
          "sources": ["native/kernels/gemm_avx512.cc", "native/kernels/vec_avx512.cc", "native/kernels/attention_avx512.cc"],
          "cflags": ["-fPIC", "-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mfma", "-mavx2", "-mprefer-vector-width=512"],
          "xcode_settings": {"OTHER_CFLAGS": ["-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mfma", "-mavx2", "-mprefer-vector-width=512"]},
          "msvs_settings": {"VCCLCompilerTool": {"AdditionalOptions": ["/arch:AVX512"]}},
        }, {
          "sources": ["native/kernels/isa_absent.cc"],
          "defines": ["GRAFT_ABSENT_AVX512"],
        }],
      ],
    },
    {
      "target_name": "graft_native",
      "sources": [
        "native/addon.cc",
        "native/kernels/attention.cc",
        "native/kernels/elementwise.cc",
        "native/kernels/gemm.cc",
        "native/kernels/gemm_bf16.cc",
        "native/kernels/gemm_parallel.cc",
        "native/kernels/layout.cc",
        "native/kernels/nn.cc",
        "native/kernels/optim.cc",
        "native/kernels/qgemm.cc",
        "native/kernels/reduce.cc",
        "native/kernels/vec.cc",
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "dependencies": ["graft_portable", "graft_avx2", "graft_avx512"],
    },
    {
      # Optional: MPI collectives for data-parallel training (docs/distributed.md), built only where MPI is found
      # (mpicc or pkg-config ompi); elsewhere an empty target and a printed note. graft_native never depends on it.
      "target_name": "graft_mpi",
      "variables": {"graft_has_mpi": "<!(node scripts/mpi-flags.mjs found)"},
      "conditions": [
        ["graft_has_mpi==1", {
          "sources": ["native/mpi/mpi_addon.cc"],
          "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "<!@(node scripts/mpi-flags.mjs incdirs)"],
          "library_dirs": ["<!@(node scripts/mpi-flags.mjs libdirs)"],
          "libraries": ["<!@(node scripts/mpi-flags.mjs libs)"],
          "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED", "OMPI_SKIP_MPICXX", "MPICH_SKIP_MPICXX"],
        }, {
          "type": "none",
        }],
      ],
    },
  ],
}
