# hp_compiler_plugin(<target>): a compiler plugin module as the public
# interface promises it: <target>.so without a lib prefix, only its entry
# points visible, in lib/hotpatch/ of the build tree and of the install.
function(hp_compiler_plugin target)
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${target}
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib/hotpatch)
  hp_c_target(${target})
  install(TARGETS ${target} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/hotpatch)
endfunction()
