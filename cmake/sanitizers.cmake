# SUANLI_SANITIZE=ON builds everything with ASan + UBSan (the `dev` preset).
if(SUANLI_SANITIZE)
  # float-cast-overflow: a double too large for the integer it is converted to.
  add_compile_options(-fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined,float-cast-overflow)
endif()
