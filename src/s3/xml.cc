#include "s3/xml.h"

#include <array>
#include <charconv>

#include "common/utf8.h"

namespace vaultaire::s3 {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace

void append_xml_escaped(std::string& out, std::string_view text) {
  // Most names need no escaping: copy runs of plain (ASCII) characters at once.
  static constexpr auto kSpecial = [] {
    std::array<bool, 256> t{};
    for (unsigned c = 0; c < 256; ++c) {
      t[c] = c < 0x20 || c >= 0x80;
    }
    for (const unsigned char c : std::string_view("&<>\"'")) {
      t[c] = true;
    }
    return t;
  }();
  size_t start = 0;
  for (;;) {
    size_t pos = start;
    while (pos < text.size() && !kSpecial[static_cast<unsigned char>(text[pos])]) {
      ++pos;
    }
    out.append(text.substr(start, pos - start));
    if (pos == text.size()) {
      return;
    }
    const char c = text[pos];
    start = pos + 1;
    switch (c) {
      case '&':
        out.append("&amp;");
        break;
      case '<':
        out.append("&lt;");
        break;
      case '>':
        out.append("&gt;");
        break;
      case '"':
        out.append("&quot;");
        break;
      case '\'':
        out.append("&apos;");
        break;
      case '\r':
        out.append("&#13;");
        break;
      case '\n':
        out.append("&#10;");
        break;
      case '\t':
        out.append("&#9;");
        break;
      default:
        if (static_cast<unsigned char>(c) >= 0x80) {
          // A multi-byte character: copied whole when XML allows it; U+FFFE and U+FFFF, which
          // it does not, are replaced whole.
          if (const size_t n = utf8_sequence_length(text.substr(pos)); n > 0) {
            const std::string_view ch = text.substr(pos, n);
            out.append(ch == "\xEF\xBF\xBE" || ch == "\xEF\xBF\xBF" ? kReplacement : ch);
            start = pos + n;
            break;
          }
        }
        // Invalid UTF-8 (a client's bytes, echoed), or a C0 control: XML 1.0 cannot hold it.
        out.append(kReplacement);
    }
  }
}

XmlWriter::XmlWriter() { out_.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"); }

XmlWriter& XmlWriter::open(std::string_view tag, bool s3_namespace) {
  out_.push_back('<');
  out_.append(tag);
  if (s3_namespace) {
    out_.append(" xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"");
  }
  out_.push_back('>');
  return *this;
}

XmlWriter& XmlWriter::close(std::string_view tag) {
  out_.append("</");
  out_.append(tag);
  out_.push_back('>');
  return *this;
}

XmlWriter& XmlWriter::element(std::string_view tag, std::string_view text) {
  open(tag);
  append_xml_escaped(out_, text);
  return close(tag);
}

XmlWriter& XmlWriter::element_quoted(std::string_view tag, std::string_view text) {
  open(tag);
  out_.append("&quot;");
  append_xml_escaped(out_, text);
  out_.append("&quot;");
  return close(tag);
}

XmlWriter& XmlWriter::element(std::string_view tag, uint64_t value) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  return element(tag, std::string_view(buf, static_cast<size_t>(end - buf)));
}

}  // namespace vaultaire::s3
