#pragma once

// Writing S3 XML bodies. A small streaming writer (listings of 1000 entries are on the hot
// path); request bodies are parsed with pugixml where an operation takes one.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace vaultaire::s3 {

// Escapes text for an XML element: & < > " ' and the control characters XML parsers would
// otherwise normalise away (CR, LF, TAB as character references). The other C0 control
// characters cannot appear in XML 1.0 at all, not even as references, nor can U+FFFE, U+FFFF
// or bytes that are not UTF-8 (a client's header echoed in an error message, say), and a parser
// refuses the whole document: each is written as U+FFFD, the replacement character (as Go's
// encoding/xml, and so MinIO, does), so the document stays readable. Listings keep such keys exact with
// encoding-type=url, which the SDKs and the aws cli send.
void append_xml_escaped(std::string& out, std::string_view text);

class XmlWriter {
 public:
  XmlWriter();  // starts with the XML declaration

  // <tag xmlns="http://s3.amazonaws.com/doc/2006-03-01/"> when `s3_namespace`.
  XmlWriter& open(std::string_view tag, bool s3_namespace = false);
  XmlWriter& close(std::string_view tag);
  // <tag>escaped text</tag>
  XmlWriter& element(std::string_view tag, std::string_view text);
  XmlWriter& element(std::string_view tag, uint64_t value);
  // <tag>"escaped text"</tag>, the quotes escaped too: how S3 XML carries an ETag.
  XmlWriter& element_quoted(std::string_view tag, std::string_view text);
  // Room for `bytes` more, for a body whose size is known roughly (a listing page).
  void reserve(size_t bytes) { out_.reserve(out_.size() + bytes); }

  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace vaultaire::s3
