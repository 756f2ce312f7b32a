# The WebAssembly build (emscripten), included by the top CMakeLists.txt.
# Its libraries are built from Debian's source packages into QK_WASM_PREFIX
# by scripts/wasm-deps.sh; scripts/wasm-build.sh runs both (see docs/wasm.md).
set(QK_WASM_PREFIX "${CMAKE_BINARY_DIR}/deps/prefix" CACHE PATH
    "where scripts/wasm-deps.sh put the wasm builds of SQLite, mbedTLS, utf8proc, jansson and cmocka")
if(NOT EXISTS "${QK_WASM_PREFIX}/lib/libsqlite3.a")
    message(FATAL_ERROR "no wasm libraries in ${QK_WASM_PREFIX}: run scripts/wasm-deps.sh "
                        "${CMAKE_BINARY_DIR}/deps first (or scripts/wasm-build.sh)")
endif()
# Emscripten's toolchain looks in its own sysroot only; ours is one more root.
list(APPEND CMAKE_FIND_ROOT_PATH "${QK_WASM_PREFIX}")
set(ENV{PKG_CONFIG_LIBDIR} "${QK_WASM_PREFIX}/lib/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
# cmocka.h declares uintptr_t itself (as unsigned int) unless told it exists.
add_compile_definitions(_UINTPTR_T)
# Memory grows as a big bundle needs.
add_link_options(-sALLOW_MEMORY_GROWTH=1)
# The test programs run under node with the real file system, so their
# temporary folders are real ones (tests/CMakeLists.txt links them so).
set(QK_WASM_TEST_LINK -sNODERAWFS=1 -sEXIT_RUNTIME=1
    "SHELL:--pre-js ${CMAKE_CURRENT_LIST_DIR}/wasm-node-pre.js")
