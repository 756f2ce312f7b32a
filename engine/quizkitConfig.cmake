# quizkitConfig.cmake: find_package(quizkit) for programs that embed the
# engine (docs/embedding.md). Gives quizkit::quizkit (the shared library)
# and quizkit::quizkit_static (the static one, which brings SQLite, mbedTLS's
# mbedcrypto and utf8proc with it).
include(CMakeFindDependencyMacro)
list(PREPEND CMAKE_MODULE_PATH "${CMAKE_CURRENT_LIST_DIR}")
find_dependency(SQLite3)
find_dependency(MbedTLS)
find_dependency(PkgConfig)
if(NOT TARGET PkgConfig::UTF8PROC)
    pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
endif()
list(REMOVE_AT CMAKE_MODULE_PATH 0)
include("${CMAKE_CURRENT_LIST_DIR}/quizkitTargets.cmake")
