# Warnings for the project's own code (not for the headers of the libraries it uses).
add_library(jv_warnings INTERFACE)
target_compile_options(jv_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor)
