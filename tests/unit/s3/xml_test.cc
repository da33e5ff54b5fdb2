#include "s3/xml.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <pugixml.hpp>

namespace vaultaire::s3 {
namespace {

constexpr std::string_view kDeclaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

TEST(XmlWriterTest, StartsWithDeclaration) {
  XmlWriter xml;
  EXPECT_EQ(xml.take(), kDeclaration);
}

TEST(XmlWriterTest, WritesNestedElementsExactly) {
  XmlWriter xml;
  xml.open("ListBucketResult", true)
      .element("Name", "photos")
      .open("Contents")
      .element("Key", "a.jpg")
      .element("Size", uint64_t{1024})
      .close("Contents")
      .element("IsTruncated", "false")
      .close("ListBucketResult");
  EXPECT_EQ(xml.take(), std::string(kDeclaration) +
                            "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                            "<Name>photos</Name>"
                            "<Contents><Key>a.jpg</Key><Size>1024</Size></Contents>"
                            "<IsTruncated>false</IsTruncated>"
                            "</ListBucketResult>");
}

TEST(XmlWriterTest, OpenWithoutNamespaceHasNoAttributes) {
  XmlWriter xml;
  xml.open("Error").close("Error");
  EXPECT_EQ(xml.take(), std::string(kDeclaration) + "<Error></Error>");
}

TEST(XmlWriterTest, WritesNumbersInDecimal) {
  XmlWriter xml;
  xml.element("Zero", uint64_t{0}).element("Max", std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(xml.take(),
            std::string(kDeclaration) + "<Zero>0</Zero><Max>18446744073709551615</Max>");
}

TEST(XmlWriterTest, EscapesMarkupAndQuotes) {
  XmlWriter xml;
  xml.element("Key", "a&b<c>d\"e'f");
  EXPECT_EQ(xml.take(), std::string(kDeclaration) + "<Key>a&amp;b&lt;c&gt;d&quot;e&apos;f</Key>");
}

TEST(XmlWriterTest, EscapesLineBreaksAndTabsAsCharacterReferences) {
  XmlWriter xml;
  xml.element("Key", "a\rb\nc\td");
  EXPECT_EQ(xml.take(), std::string(kDeclaration) + "<Key>a&#13;b&#10;c&#9;d</Key>");
}

TEST(XmlWriterTest, WritesCharactersXmlCannotHoldAsTheReplacementCharacter) {
  // A key may hold any C0 control and U+FFFE / U+FFFF; XML 1.0 allows none of them, not even as
  // a character reference, and a parser (expat, so botocore) would refuse the whole error body.
  XmlWriter xml;
  xml.element("Key", std::string("a\x01"
                                 "b\x1f\0c\xef\xbf\xbf\xef\xbf\xbe\xef\xbf\xbd\xef\xbc\xa1",
                                 18));
  EXPECT_EQ(xml.take(), std::string(kDeclaration) +
                            "<Key>a\xef\xbf\xbd"
                            "b\xef\xbf\xbd\xef\xbf\xbd"
                            "c\xef\xbf\xbd\xef\xbf\xbd"
                            "\xef\xbf\xbd\xef\xbc\xa1</Key>");
}

TEST(XmlWriterTest, WritesBytesThatAreNotUtf8AsTheReplacementCharacter) {
  std::string out;
  // A lone Latin-1 byte, a truncated sequence, an overlong '/', a surrogate, past U+10FFFF, a
  // stray continuation byte; then 2-, 3- and 4-byte characters kept as they are.
  append_xml_escaped(out,
                     "\xe9|\xe6\x97|\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\x80|"
                     "\xc3\xa9\xe6\x97\xa5\xf0\x9f\x99\x82");
  EXPECT_EQ(out,
            "\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|"
            "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
            "\xef\xbf\xbd|\xc3\xa9\xe6\x97\xa5\xf0\x9f\x99\x82");
}

TEST(XmlWriterTest, EscapeLeavesOtherTextAlone) {
  std::string out = "<";
  append_xml_escaped(out, "plain text / caf\xc3\xa9 \xe1\x88\xb4 ;#%");
  EXPECT_EQ(out, "<plain text / caf\xc3\xa9 \xe1\x88\xb4 ;#%");
}

TEST(XmlWriterTest, PugixmlReadsBackTheSameText) {
  const std::vector<std::string> keys = {
      "plain.txt", "line\nbreak \"quoted\" name", "a&b<c>d\"e'f", "crlf\r\nand\ttab",
      "\n",        "caf\xc3\xa9/\xe1\x88\xb4",
  };
  XmlWriter xml;
  xml.open("ListBucketResult", true);
  for (const auto& key : keys) {
    xml.open("Contents")
        .element("Key", key)
        .element("Size", static_cast<uint64_t>(key.size()))
        .close("Contents");
  }
  xml.close("ListBucketResult");
  const std::string text = xml.take();

  pugi::xml_document doc;
  const pugi::xml_parse_result parsed = doc.load_buffer(text.data(), text.size());
  ASSERT_TRUE(parsed) << parsed.description();
  const pugi::xml_node root = doc.child("ListBucketResult");
  ASSERT_TRUE(root);
  EXPECT_STREQ(root.attribute("xmlns").value(), "http://s3.amazonaws.com/doc/2006-03-01/");
  std::vector<std::string> read;
  for (const pugi::xml_node contents : root.children("Contents")) {
    const std::string key = contents.child_value("Key");
    EXPECT_EQ(contents.child("Size").text().as_ullong(), key.size()) << key;
    read.push_back(key);
  }
  EXPECT_EQ(read, keys);
}

}  // namespace
}  // namespace vaultaire::s3
