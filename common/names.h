// Names are byte strings. A path, a glob, a parameter, a key or a counter
// name may be any POSIX byte string: UTF-8 or Latin-1, with control
// characters or terminal escapes in it. The engine keeps and passes such
// names unchanged; only where a person or a JSON parser reads them are they
// escaped, by these functions.
#ifndef MR_COMMON_NAMES_H_
#define MR_COMMON_NAMES_H_

#include <string>
#include <string_view>

namespace mr {

// True when `s` is well-formed UTF-8 (no overlong forms, no surrogates).
bool IsValidUtf8(std::string_view s);

// For a terminal or a log: valid UTF-8 stays as it is, except that control
// characters become \n, \t, \r or \xNN, and a backslash becomes \\; every
// byte that is not part of valid UTF-8 becomes \xNN (lower-case hex). So
// "caf\xe9.txt" (Latin-1) prints as caf\xe9.txt, and two different names
// never print the same.
std::string EscapeName(std::string_view s);

// A JSON string literal, quotes included (RFC 8259). Valid UTF-8 is kept;
// each byte that is not part of valid UTF-8 becomes the lone surrogate
// \udcNN (NN its value: PEP 383's surrogateescape), so that Python's
// json.loads(...).encode('utf-8', 'surrogateescape') gives back the exact
// bytes; control characters, quotes and backslashes are escaped as JSON
// requires.
std::string JsonString(std::string_view s);

// Whether `s` is a number as JSON writes it: -?DIGITS[.DIGITS][(e|E)[+-]DIGITS]
// (leading zeros allowed).
bool IsJsonNumber(std::string_view s);

}  // namespace mr

#endif  // MR_COMMON_NAMES_H_
