# The libraries of a Windows cross-build (scripts/build_windows.sh). FFmpeg and libcurl are cross-built from
# Debian's source packages (JARVIS_FFMPEG_PREFIX, JARVIS_CURL_PREFIX), PCRE2 too (JARVIS_PCRE2_PREFIX, static);
# cpp-httplib is its single header (JARVIS_HTTPLIB_PREFIX); the header-only libraries (Boost.DLL, nlohmann-json,
# fmt, spdlog, CLI11) are Debian's own headers, reached through a folder of links so that no other Linux header is in the
# include path.
# Each library gets the imported target name the Linux build's find_package gives, so no other file changes.
foreach(var JARVIS_FFMPEG_PREFIX JARVIS_CURL_PREFIX JARVIS_HTTPLIB_PREFIX JARVIS_PCRE2_PREFIX)
  if(NOT IS_DIRECTORY "${${var}}")
    message(FATAL_ERROR "${var} must name the folder scripts/windows/build_deps.sh made (got '${${var}}')")
  endif()
endforeach()

set(JARVIS_WINDOWS_DLL_DIRS ${JARVIS_FFMPEG_PREFIX}/bin ${JARVIS_CURL_PREFIX}/bin CACHE INTERNAL "")

set(header_links ${CMAKE_BINARY_DIR}/linux-headers)
file(MAKE_DIRECTORY ${header_links})
foreach(dir boost nlohmann spdlog fmt CLI)
  if(NOT EXISTS ${header_links}/${dir})
    file(CREATE_LINK /usr/include/${dir} ${header_links}/${dir} SYMBOLIC)
  endif()
endforeach()

function(jarvis_import_dll_library target prefix)
  add_library(${target} INTERFACE IMPORTED GLOBAL)
  set(archives)
  foreach(name ${ARGN})
    list(APPEND archives ${prefix}/lib/lib${name}.dll.a)
  endforeach()
  set_target_properties(${target} PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES ${prefix}/include
    INTERFACE_LINK_LIBRARIES "${archives}")
endfunction()

jarvis_import_dll_library(PkgConfig::LIBAV ${JARVIS_FFMPEG_PREFIX} avformat avcodec swscale avutil)
jarvis_import_dll_library(CURL::libcurl ${JARVIS_CURL_PREFIX} curl)

add_library(PkgConfig::HTTPLIB INTERFACE IMPORTED GLOBAL)
set_target_properties(PkgConfig::HTTPLIB PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES ${JARVIS_HTTPLIB_PREFIX}/include
  # httplib needs Windows 8's APIs and Winsock.
  INTERFACE_COMPILE_DEFINITIONS "_WIN32_WINNT=0x0A00"
  INTERFACE_LINK_LIBRARIES "ws2_32;crypt32;mswsock")

# PCRE2 is linked statically into the plugins (a static build of Debian's source package).
add_library(PkgConfig::PCRE2 STATIC IMPORTED GLOBAL)
set_target_properties(PkgConfig::PCRE2 PROPERTIES
  IMPORTED_LOCATION ${JARVIS_PCRE2_PREFIX}/lib/libpcre2-8.a
  INTERFACE_INCLUDE_DIRECTORIES ${JARVIS_PCRE2_PREFIX}/include
  INTERFACE_COMPILE_DEFINITIONS PCRE2_STATIC)

add_library(jarvis_linux_headers INTERFACE IMPORTED GLOBAL)
set_target_properties(jarvis_linux_headers PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${header_links})
foreach(target nlohmann_json::nlohmann_json Boost::headers CLI11::CLI11)
  add_library(${target} INTERFACE IMPORTED GLOBAL)
  set_target_properties(${target} PROPERTIES INTERFACE_LINK_LIBRARIES jarvis_linux_headers)
endforeach()
add_library(fmt::fmt INTERFACE IMPORTED GLOBAL)
set_target_properties(fmt::fmt PROPERTIES
  INTERFACE_LINK_LIBRARIES jarvis_linux_headers
  INTERFACE_COMPILE_DEFINITIONS FMT_HEADER_ONLY)
add_library(spdlog::spdlog INTERFACE IMPORTED GLOBAL)
set_target_properties(spdlog::spdlog PROPERTIES
  INTERFACE_LINK_LIBRARIES fmt::fmt
  INTERFACE_COMPILE_DEFINITIONS SPDLOG_FMT_EXTERNAL)

find_package(Threads REQUIRED)

# The C++ runtime goes into each binary: a plugin DLL loaded into someone else's process (Python) must not depend on
# whichever libstdc++-6.dll that process found first. The threads runtime stays a DLL (libwinpthread-1.dll, shipped
# beside FFmpeg's), since FFmpeg and curl import it too.
add_link_options(-static-libgcc -static-libstdc++)
# Debug builds of large files exceed the COFF section limit.
add_compile_options(-Wa,-mbig-obj)
# UTF-16 Windows APIs everywhere; no min/max macros from windows.h.
add_compile_definitions(UNICODE _UNICODE NOMINMAX WIN32_LEAN_AND_MEAN)

# The DLLs the programs and plugins load sit beside the programs (Windows looks in the program's folder), in the
# build tree, the installed distribution and the Python package's bin/ alike.
find_file(JARVIS_WINPTHREAD_DLL libwinpthread-1.dll PATHS /usr/x86_64-w64-mingw32/lib NO_DEFAULT_PATH REQUIRED)
set(JARVIS_WINDOWS_DLLS ${JARVIS_WINPTHREAD_DLL})
foreach(dir ${JARVIS_WINDOWS_DLL_DIRS})
  file(GLOB dlls ${dir}/*.dll)
  list(APPEND JARVIS_WINDOWS_DLLS ${dlls})
endforeach()
set(JARVIS_WINDOWS_DLLS ${JARVIS_WINDOWS_DLLS} CACHE INTERNAL "")
file(COPY ${JARVIS_WINDOWS_DLLS} DESTINATION ${CMAKE_BINARY_DIR}/bin)
install(FILES ${JARVIS_WINDOWS_DLLS} DESTINATION bin)
