# devkey.cmake: makes the development signing key KEY.key/KEY.pub with QK
# unless it exists already (keygen never overwrites a key).
if(NOT EXISTS "${KEY}.key")
    execute_process(COMMAND "${QK}" --lang en keygen -o "${KEY}" RESULT_VARIABLE rc OUTPUT_QUIET)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "could not create the development key ${KEY}.key")
    endif()
endif()
