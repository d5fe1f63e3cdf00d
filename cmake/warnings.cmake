# Warnings applied to suanli's own targets (never to dependencies).
function(suanli_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                         -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
                         -Wunused -Woverloaded-virtual -Wnull-dereference
                         -Wdouble-promotion -Wimplicit-fallthrough
                         -Wno-missing-field-initializers)
  # GCC 12 reports false -Wrestrict positives inside libstdc++ string code (GCC bug 105329).
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(SUANLI_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
