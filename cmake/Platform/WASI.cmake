# CMake 3.25 ships no WASI platform file (TOOLCHAIN.md pitfall W3).
set(WASI 1)
set(CMAKE_EXECUTABLE_SUFFIX ".wasm")
