# Warnings for the project's own targets (third-party headers come in as -isystem).
add_library(mq_warnings INTERFACE)
target_compile_options(mq_warnings INTERFACE -Wall -Wextra -Wpedantic -Wno-unused-parameter)
