# What a system install adds to the command (systemd units, the server's
# first settings file) and the Debian package (CPack's DEB generator):
# scripts/package.sh builds it with -DQK_PACKAGE=ON and a /usr prefix, and
# docs/packaging.md says what it holds and does.
set(QK_BINDIR "${CMAKE_INSTALL_FULL_BINDIR}")
foreach(unit quizkit-serve quizkit-kiosk quizkit-kiosk-screen)
    configure_file("${PROJECT_SOURCE_DIR}/packaging/systemd/${unit}.service.in"
                   "${CMAKE_BINARY_DIR}/systemd/${unit}.service" @ONLY)
    install(FILES "${CMAKE_BINARY_DIR}/systemd/${unit}.service" DESTINATION lib/systemd/system)
endforeach()
install(FILES "${PROJECT_SOURCE_DIR}/packaging/serve.conf" DESTINATION share/quizkit)

# The Debian packages of the libraries the command opens at run time
# (QK_DLOPEN: dpkg-shlibdeps does not see them).
set(qk_deb_depends "adduser, libjs-chart.js")
if(QK_DLOPEN)
    foreach(lib "${QK_CURL_RUNTIME}" "${QK_MHD_RUNTIME}")
        execute_process(COMMAND dpkg -S "${lib}" OUTPUT_VARIABLE owner ERROR_QUIET RESULT_VARIABLE failed)
        if(NOT failed AND owner MATCHES "^([^:, ]+)")
            string(APPEND qk_deb_depends ", ${CMAKE_MATCH_1}")
        endif()
    endforeach()
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME quizkit)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "quizkit developers <quizkit@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "offline quiz and learning kit: kiosk, branch server, statistics")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "offline quiz and learning kit: kiosk, branch server, statistics\n Signed bundles of themed quizzes and lessons, taken at a shared kiosk or on\n members' phones, every answer kept in a local SQLite file and synced to a\n branch server, which re-scores them and shows participation statistics.\n Includes the quizkit command, the engine library (libquizkit) and its\n headers, systemd units for the server and the kiosk, and a sample bundle.")
set(CPACK_DEBIAN_PACKAGE_SECTION education)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "${qk_deb_depends}")
# libpq, opened when the server's store is PostgreSQL (a district's server,
# docs/deploy.md): recommended, as a branch's server on SQLite never opens it.
set(qk_deb_recommends "chromium, cage, fonts-noto-cjk")
if(QK_DLOPEN AND QK_WITH_POSTGRESQL AND QK_PQ_RUNTIME)
    execute_process(COMMAND dpkg -S "${QK_PQ_RUNTIME}" OUTPUT_VARIABLE owner ERROR_QUIET RESULT_VARIABLE failed)
    if(NOT failed AND owner MATCHES "^([^:, ]+)")
        string(APPEND qk_deb_recommends ", ${CMAKE_MATCH_1}")
    endif()
endif()
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "${qk_deb_recommends}")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "${PROJECT_SOURCE_DIR}/packaging/deb/postinst;${PROJECT_SOURCE_DIR}/packaging/deb/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
include(CPack)
