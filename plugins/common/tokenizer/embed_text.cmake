# Writes the text file INPUT into the C++ source OUTPUT as the string_view NAME (namespace jarvis::embedded), so
# that data the plugins need travels inside them. Run by add_custom_command at build time.
file(READ "${INPUT}" content)
file(WRITE "${OUTPUT}" "// Generated from ${INPUT} by embed_text.cmake; do not edit.\n#include <string_view>\n\nnamespace jarvis::embedded {\n\nextern const std::string_view ${NAME};\nconst std::string_view ${NAME} = R\"jvembed(${content})jvembed\";\n\n} // namespace jarvis::embedded\n")
