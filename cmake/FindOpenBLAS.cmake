# Finds OpenBLAS (Debian: libopenblas-dev). cutrain declares the few CBLAS entry points it uses,
# so only the library is needed. Defines the imported target OpenBLAS::OpenBLAS.
find_library(OpenBLAS_LIBRARY NAMES openblas HINTS ${OpenBLAS_ROOT} $ENV{OpenBLAS_ROOT}
             PATH_SUFFIXES lib lib64)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(OpenBLAS REQUIRED_VARS OpenBLAS_LIBRARY)
if(OpenBLAS_FOUND AND NOT TARGET OpenBLAS::OpenBLAS)
  add_library(OpenBLAS::OpenBLAS UNKNOWN IMPORTED)
  set_target_properties(OpenBLAS::OpenBLAS PROPERTIES IMPORTED_LOCATION "${OpenBLAS_LIBRARY}")
endif()
mark_as_advanced(OpenBLAS_LIBRARY)
