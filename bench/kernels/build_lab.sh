#!/bin/sh
# Builds the GEMM lab against the addon's own sources, with the same per-file ISA flags as binding.gyp.
set -e
cd "$(dirname "$0")/../.."
LAB_BIN=${LAB_BIN:-/tmp/graft_gemm_lab}
CXX=${CXX:-g++}
FLAGS="-O3 -std=c++17 -fno-math-errno -pthread"
$CXX $FLAGS -c native/kernels/gemm_avx512.cc -o /tmp/graft_lab_avx512.o -mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma
$CXX $FLAGS -c native/kernels/gemm_avx2.cc -o /tmp/graft_lab_avx2.o -mavx2 -mfma
$CXX $FLAGS bench/kernels/gemm_lab.cc native/kernels/gemm.cc native/kernels/gemm_parallel.cc native/cpu.cc native/threadpool.cc /tmp/graft_lab_avx512.o /tmp/graft_lab_avx2.o -o "$LAB_BIN"
