# Warning and sanitizer flags shared by every C target of the project.
# Targets opt in with hp_c_target(<target>) so third-party code and the
# test programs compiled by tests at run time stay unaffected.

set(HP_C_WARNINGS
  -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes
  -Wmissing-prototypes -Wvla -Wno-unused-parameter)
set(HP_CXX_WARNINGS -Wall -Wextra -Wno-unused-parameter)

if(HP_WERROR)
  list(APPEND HP_C_WARNINGS -Werror)
  list(APPEND HP_CXX_WARNINGS -Werror)
endif()

set(HP_SANITIZER_FLAGS)
if(HP_SANITIZE)
  set(HP_SANITIZER_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer
      -fno-sanitize-recover=undefined)
endif()

# hp_c_target(<target>): project warnings (and sanitizers when enabled).
function(hp_c_target target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:C>:${HP_C_WARNINGS}>
    $<$<COMPILE_LANGUAGE:CXX>:${HP_CXX_WARNINGS}>
    ${HP_SANITIZER_FLAGS})
  if(HP_SANITIZER_FLAGS)
    target_link_options(${target} PRIVATE ${HP_SANITIZER_FLAGS})
  endif()
endfunction()
