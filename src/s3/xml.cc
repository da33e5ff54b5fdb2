#include "s3/xml.h"

#include <charconv>

namespace vaultaire::s3 {

void append_xml_escaped(std::string& out, std::string_view text) {
  for (const char c : text) {
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
        out.push_back(c);
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

XmlWriter& XmlWriter::element(std::string_view tag, uint64_t value) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  return element(tag, std::string_view(buf, static_cast<size_t>(end - buf)));
}

}  // namespace vaultaire::s3
