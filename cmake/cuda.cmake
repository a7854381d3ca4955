# Decides whether the CUDA backend is built (CUTRAIN_CUDA = AUTO | ON | OFF) and finds the
# toolkit, cuBLAS, cuDNN and NVTX. Result: CUTRAIN_WITH_CUDA (0 or 1).
set(CUTRAIN_WITH_CUDA 0)
if(NOT CUTRAIN_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(CUTRAIN_WITH_CUDA 1)
  elseif(CUTRAIN_CUDA STREQUAL "ON")
    message(FATAL_ERROR "CUTRAIN_CUDA=ON but no CUDA compiler was found: put nvcc on PATH or "
                        "set CMAKE_CUDA_COMPILER / CUDACXX")
  else()
    message(STATUS "cutrain: nvcc not found, building the CPU backend only")
  endif()
endif()

if(CUTRAIN_WITH_CUDA)
  # sm_80 (A100) and sm_90 (H100) machine code, plus compute_90 PTX for newer GPUs.
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 80-real 90)
  endif()
  enable_language(CUDA)
  set(CMAKE_CUDA_STANDARD 17)
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
  find_package(CUDAToolkit REQUIRED)
  find_package(CUDNN REQUIRED)  # cmake/FindCUDNN.cmake; hint: -DCUDNN_ROOT=...
endif()
