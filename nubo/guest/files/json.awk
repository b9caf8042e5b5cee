# nubo-guest: flattens a JSON document into one line per scalar value:
#   <path><TAB><value>
# The path joins object keys and array indexes with "/" (public_keys/mykey,
# keys/0/data). Strings are unescaped; \n, \r and \t become spaces (so every value
# stays on one line) and \uXXXX outside ASCII becomes "?". null, true, false and
# numbers are printed as written. Malformed input stops the output where it breaks.
{ text = text $0 "\n" }
END {
    pos = 1; n = length(text)
    parse_value("")
}
function skip_ws() {
    while (pos <= n && index(" \t\r\n", substr(text, pos, 1)) > 0) pos++
}
function emit(path, value) {
    printf "%s\t%s\n", path, value
}
function join(path, key) {
    return path == "" ? key : path "/" key
}
function parse_value(path,    c) {
    skip_ws()
    c = substr(text, pos, 1)
    if (c == "{") parse_object(path)
    else if (c == "[") parse_array(path)
    else if (c == "\"") emit(path, parse_string())
    else emit(path, parse_bare())
}
function parse_object(path,    key, c) {
    pos++
    skip_ws()
    if (substr(text, pos, 1) == "}") { pos++; return }
    while (pos <= n) {
        skip_ws()
        if (substr(text, pos, 1) != "\"") { pos = n + 1; return }
        key = parse_string()
        skip_ws()
        if (substr(text, pos, 1) != ":") { pos = n + 1; return }
        pos++
        parse_value(join(path, key))
        skip_ws()
        c = substr(text, pos, 1)
        pos++
        if (c != ",") return
    }
}
function parse_array(path,    i, c) {
    pos++
    skip_ws()
    if (substr(text, pos, 1) == "]") { pos++; return }
    for (i = 0; pos <= n; i++) {
        parse_value(join(path, i))
        skip_ws()
        c = substr(text, pos, 1)
        pos++
        if (c != ",") return
    }
}
function parse_bare(    start) {
    start = pos
    while (pos <= n && index(",}] \t\r\n", substr(text, pos, 1)) == 0) pos++
    return substr(text, start, pos - start)
}
function parse_string(    out, c, e, code) {
    pos++
    out = ""
    while (pos <= n) {
        c = substr(text, pos, 1)
        pos++
        if (c == "\"") return out
        if (c != "\\") { out = out c; continue }
        e = substr(text, pos, 1)
        pos++
        if (e == "n" || e == "r" || e == "t") out = out " "
        else if (e == "b" || e == "f") out = out ""
        else if (e == "u") {
            code = hex(substr(text, pos, 4))
            pos += 4
            out = out (code >= 32 && code < 127 ? sprintf("%c", code) : "?")
        }
        else out = out e
    }
    return out
}
function hex(s,    i, v) {
    v = 0
    for (i = 1; i <= length(s); i++)
        v = v * 16 + index("0123456789abcdef", tolower(substr(s, i, 1))) - 1
    return v
}
