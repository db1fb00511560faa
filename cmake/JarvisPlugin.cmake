# jarvis_add_plugin(<target> OUTPUT_NAME <name> [OUTPUT_DIRECTORY <dir>] [NO_INSTALL] SOURCES ...)
#
# A plugin is a MODULE library that exports exactly one dynamic symbol, jarvis_vision_plugin. Hidden visibility is
# not enough for that: libstdc++ templates and spdlog/fmt still leak weak and STB_GNU_UNIQUE symbols, which also pin
# the library in memory after dlclose. A linker version script that exports only the entry point fixes both.
set(JARVIS_PLUGIN_VERSION_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/../plugin_api/plugin.map)

function(jarvis_add_plugin target)
  cmake_parse_arguments(ARG "NO_INSTALL" "OUTPUT_NAME;OUTPUT_DIRECTORY" "SOURCES;LINK" ${ARGN})
  add_library(${target} MODULE ${ARG_SOURCES})
  # The shared libraries plugins use (lib/jarvis/libjarvis_ffmpeg_log.so) sit one folder up, in the build tree, the
  # install tree and the Python package alike: the same relative run path serves all three.
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${ARG_OUTPUT_NAME}
    LINK_DEPENDS ${JARVIS_PLUGIN_VERSION_SCRIPT}
    BUILD_RPATH "$ORIGIN/.."
    INSTALL_RPATH "$ORIGIN/..")
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  endif()
  target_link_libraries(${target} PRIVATE jv_plugin_api jv_warnings ${ARG_LINK})
  # On Windows the entry point's __declspec(dllexport) does the same: with one explicit export, the linker exports
  # nothing else, and a DLL never links with undefined symbols.
  if(NOT WIN32)
    target_link_options(${target} PRIVATE
      "LINKER:--no-undefined"
      "LINKER:--version-script=${JARVIS_PLUGIN_VERSION_SCRIPT}")
  endif()
  if(NOT ARG_NO_INSTALL)
    install(TARGETS ${target} LIBRARY DESTINATION ${JARVIS_PLUGIN_SUBDIR})
  endif()
endfunction()
