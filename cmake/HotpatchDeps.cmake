# External dependencies, each found once and exposed as an imported target.

find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)

# libsodium: Ed25519 package signatures (mkpatch signs, the runtime and
# the CLI verify).
pkg_check_modules(LIBSODIUM REQUIRED IMPORTED_TARGET libsodium)
add_library(hp::sodium ALIAS PkgConfig::LIBSODIUM)

# libelf and libdwarf (mkpatch and the tests that read objects).
pkg_check_modules(LIBELF REQUIRED IMPORTED_TARGET libelf)
add_library(hp::libelf ALIAS PkgConfig::LIBELF)
# Debian 12's libdwarf-dev (20210528) ships no pkg-config file.
find_path(HP_LIBDWARF_INCLUDE libdwarf.h PATH_SUFFIXES libdwarf REQUIRED)
find_library(HP_LIBDWARF_LIBRARY dwarf REQUIRED)
add_library(hp_libdwarf INTERFACE)
target_include_directories(hp_libdwarf INTERFACE ${HP_LIBDWARF_INCLUDE})
target_link_libraries(hp_libdwarf INTERFACE ${HP_LIBDWARF_LIBRARY} PkgConfig::LIBELF)
add_library(hp::libdwarf ALIAS hp_libdwarf)

# cmocka: Debian's CMake config sets variables but no imported target.
if(HP_BUILD_TESTS)
  find_package(cmocka CONFIG REQUIRED)
  add_library(hp_cmocka INTERFACE)
  target_include_directories(hp_cmocka INTERFACE ${CMOCKA_INCLUDE_DIR})
  target_link_libraries(hp_cmocka INTERFACE ${CMOCKA_LIBRARIES})
  add_library(hp::cmocka ALIAS hp_cmocka)
endif()

# LLVM 19 by its CMake package. llvm-config-19 only tells CMake where
# Debian keeps that package; nothing else is taken from it.
find_program(HP_LLVM_CONFIG NAMES llvm-config-19 llvm-config)
if(HP_LLVM_CONFIG AND NOT LLVM_DIR)
  execute_process(COMMAND ${HP_LLVM_CONFIG} --cmakedir
    OUTPUT_VARIABLE hp_llvm_cmakedir OUTPUT_STRIP_TRAILING_WHITESPACE)
  set(LLVM_DIR ${hp_llvm_cmakedir} CACHE PATH "LLVM 19 CMake package")
endif()
# LLVM's version file wants major.minor to match, so check the major here.
find_package(LLVM CONFIG REQUIRED)
if(NOT LLVM_VERSION_MAJOR EQUAL 19)
  message(FATAL_ERROR "hotpatch needs LLVM 19, found ${LLVM_PACKAGE_VERSION} at ${LLVM_DIR}")
endif()
message(STATUS "hotpatch: LLVM ${LLVM_PACKAGE_VERSION} from ${LLVM_DIR}")

# The compiler whose plugin we build; tests compile C sources with it.
find_program(HP_CLANG NAMES clang-${LLVM_VERSION_MAJOR}
  HINTS ${LLVM_TOOLS_BINARY_DIR} REQUIRED)
