// Handed to the wasm test programs (cmake/wasm.cmake): under node 18 and
// later, emscripten 3.1.6's loader sees a global fetch() and tries to fetch
// the .wasm file by name, which node cannot; so the binary beside the
// program's .js is read here and handed over instead.
if (typeof process === 'object' && typeof require === 'function' && !Module['wasmBinary']) {
    Module['wasmBinary'] = require('fs').readFileSync(__filename.replace(/\.js$/, '.wasm'));
}
