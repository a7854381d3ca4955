# Installs libcutrain.so, the public headers and a CMake package, so that
#   find_package(cutrain CONFIG REQUIRED)  +  target_link_libraries(app PRIVATE cutrain::cutrain)
# works. All of cutrain's dependencies are private to the shared library: a consumer needs no
# CUDA, cuDNN or BLAS headers.
include(CMakePackageConfigHelpers)
install(TARGETS cutrain EXPORT cutrainTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY core/include/ models/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT cutrainTargets NAMESPACE cutrain::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cutrain)
configure_package_config_file(cmake/cutrainConfig.cmake.in
                              ${CMAKE_CURRENT_BINARY_DIR}/cutrainConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cutrain)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/cutrainConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/cutrainConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/cutrainConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cutrain)
if(TARGET cutrain_cli)
  install(TARGETS cutrain_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
