#include "vaultctl/event_formats.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace vaultaire::vaultctl {
namespace {

proto::Event envelope(uint64_t sequence, std::string path = "photos/cat.jpg") {
  proto::Event e;
  e.set_sequence(sequence);
  e.set_time_unix_nanos(1'795'219'200'123'000'000);  // 2026-11-21T00:00:00.123Z
  e.set_tenant("acme");
  e.set_container("pics");
  e.set_path(std::move(path));
  e.set_request_id("REQ1");
  e.set_principal("VKEY");
  e.set_source_address("203.0.113.7:51234");
  e.set_user_agent("ua");
  e.set_spoke_id("local");
  return e;
}

proto::Event put(uint64_t sequence) {
  proto::Event e = envelope(sequence);
  e.mutable_artifact_committed()->set_size(5);
  e.mutable_artifact_committed()->set_etag("abc");
  e.mutable_artifact_committed()->set_tier("hot");
  return e;
}

proto::Event copy(uint64_t sequence) {
  proto::Event e = put(sequence);
  e.mutable_artifact_committed()->set_shares_blobs(true);
  return e;
}

proto::Event multipart(uint64_t sequence) {
  proto::Event e = put(sequence);
  auto& a = *e.mutable_artifact_committed();
  a.set_size(0);
  a.set_completed_upload_id("U1");
  a.add_segments()->set_size(7);
  a.add_segments()->set_size(8);
  return e;
}

proto::Event read(uint64_t sequence, bool head) {
  proto::Event e = envelope(sequence);
  e.mutable_artifact_read()->set_size(5);
  e.mutable_artifact_read()->set_bytes_sent(head ? 0 : 5);
  e.mutable_artifact_read()->set_head(head);
  e.mutable_artifact_read()->set_tier("hot");
  return e;
}

proto::Event deleted(uint64_t sequence) {
  proto::Event e = envelope(sequence);
  e.mutable_artifact_deleted();
  return e;
}

proto::Event listed(uint64_t sequence) {
  proto::Event e = envelope(sequence, "");
  e.mutable_container_listed()->set_operation("ListObjectsV2");
  return e;
}

proto::Event container_deleted(uint64_t sequence) {
  proto::Event e = envelope(sequence, "");
  e.mutable_container_deleted();
  return e;
}

proto::Event migrated(uint64_t sequence) {
  proto::Event e = envelope(sequence);
  e.mutable_artifact_migrated()->set_from_tier("hot");
  e.mutable_artifact_migrated()->set_to_tier("cold");
  e.mutable_artifact_migrated()->add_from()->set_size(5);
  return e;
}

proto::Event restore_requested(uint64_t sequence) {
  proto::Event e = envelope(sequence);
  e.mutable_restore_requested()->set_days(2);
  return e;
}

proto::Event restored(uint64_t sequence) {
  proto::Event e = envelope(sequence);
  e.mutable_artifact_restored();
  return e;
}

proto::Event restore_expired(uint64_t sequence) {
  proto::Event e = envelope(sequence);
  e.mutable_restore_expired();
  return e;
}

// Which of `events` the filter parsed from `list` selects, by sequence.
std::vector<uint64_t> selected(const std::string& list, const std::vector<proto::Event>& events) {
  const auto filter = TypeFilter::parse(list);
  EXPECT_TRUE(filter) << list;
  std::vector<uint64_t> out;
  for (const auto& e : events) {
    if (filter && filter->matches(e)) {
      out.push_back(e.sequence());
    }
  }
  return out;
}

const std::vector<proto::Event>& sample() {
  static const std::vector<proto::Event> events = {put(1),        copy(2),
                                                   multipart(3),  read(4, false),
                                                   read(5, true), deleted(6),
                                                   listed(7),     container_deleted(8),
                                                   migrated(9),   restore_requested(10),
                                                   restored(11),  restore_expired(12)};
  return events;
}

TEST(TypeFilterTest, AliasesSelectTheirEvents) {
  using V = std::vector<uint64_t>;
  EXPECT_EQ(selected("PUT", sample()), (V{1, 2, 3}));
  EXPECT_EQ(selected("COPY", sample()), (V{2}));
  EXPECT_EQ(selected("GET", sample()), (V{4}));
  EXPECT_EQ(selected("HEAD", sample()), (V{5}));
  EXPECT_EQ(selected("DELETE", sample()), (V{6}));
  EXPECT_EQ(selected("LIST", sample()), (V{7}));
  EXPECT_EQ(selected("MIGRATE", sample()), (V{9}));
  EXPECT_EQ(selected("RESTORE", sample()), (V{10, 11, 12}));
}

TEST(TypeFilterTest, NamesAndAliasesCombineInAnyCase) {
  using V = std::vector<uint64_t>;
  EXPECT_EQ(selected("get, head", sample()), (V{4, 5}));
  EXPECT_EQ(selected("artifact_read", sample()), (V{4, 5}));
  EXPECT_EQ(selected("container_deleted,Delete", sample()), (V{6, 8}));
  EXPECT_EQ(selected("copy,PUT", sample()), (V{1, 2, 3}));
  EXPECT_EQ(selected("ARTIFACT_MIGRATED,", sample()), (V{9}));
}

TEST(TypeFilterTest, EmptyListSelectsEverything) {
  const auto filter = TypeFilter::parse("");
  ASSERT_TRUE(filter);
  EXPECT_TRUE(filter->all());
  for (const auto& e : sample()) {
    EXPECT_TRUE(filter->matches(e));
  }
}

TEST(TypeFilterTest, UnknownNameIsRefusedAndNamed) {
  std::string unknown;
  EXPECT_FALSE(TypeFilter::parse("PUT,artifact_put", &unknown));
  EXPECT_EQ(unknown, "artifact_put");
  EXPECT_FALSE(TypeFilter::parse("POST", &unknown));
  EXPECT_EQ(unknown, "POST");
}

TEST(TypeFilterTest, KnowsEveryTypeOfTheSchema) {
  const auto names = event_type_names();
  for (const char* name : {"container_created", "artifact_committed", "artifact_read",
                           "container_listed", "access_denied", "restore_expired"}) {
    EXPECT_TRUE(names.contains(name)) << name;
    EXPECT_TRUE(TypeFilter::parse(name)) << name;
  }
}

TEST(CsvTest, FieldIsQuotedOnlyWhenNeeded) {
  EXPECT_EQ(csv_field(""), "");
  EXPECT_EQ(csv_field("plain/key.txt"), "plain/key.txt");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_field("cr\rhere"), "\"cr\rhere\"");
  EXPECT_EQ(csv_field(" padded "), "\" padded \"");
  EXPECT_EQ(csv_field("\""), "\"\"\"\"");
}

TEST(CsvTest, RowFollowsTheHeader) {
  EXPECT_EQ(csv_header(),
            "seq,time,tenant,container,path,type,principal,source,request_id,user_agent,size,"
            "etag,tier,bytes_sent\n");
  EXPECT_EQ(csv_row(put(42)),
            "42,2026-11-21T00:00:00.123Z,acme,pics,photos/cat.jpg,artifact_committed,VKEY,"
            "203.0.113.7:51234,REQ1,ua,5,abc,hot,\n");
  EXPECT_EQ(csv_row(read(43, false)),
            "43,2026-11-21T00:00:00.123Z,acme,pics,photos/cat.jpg,artifact_read,VKEY,"
            "203.0.113.7:51234,REQ1,ua,5,,hot,5\n");
  EXPECT_EQ(csv_row(deleted(44)),
            "44,2026-11-21T00:00:00.123Z,acme,pics,photos/cat.jpg,artifact_deleted,VKEY,"
            "203.0.113.7:51234,REQ1,ua,,,,\n");
}

TEST(CsvTest, RowQuotesAnAwkwardKey) {
  proto::Event e = put(1);
  e.set_path("a,b\"c\nd");
  const std::string row = csv_row(e);
  EXPECT_NE(row.find(",\"a,b\"\"c\nd\",artifact_committed,"), std::string::npos) << row;
}

TEST(CsvTest, MultipartSizeIsTheSumOfItsParts) {
  const std::string row = csv_row(multipart(3));
  EXPECT_NE(row.find(",15,abc,hot,"), std::string::npos) << row;
}

TEST(S3EventTest, KeyIsUrlEncodedWithPlusForSpace) {
  EXPECT_EQ(s3_event_key("photos/cat.jpg"), "photos/cat.jpg");
  EXPECT_EQ(s3_event_key("red flower.jpg"), "red+flower.jpg");
  EXPECT_EQ(s3_event_key("a+b,c\"d\ne"), "a%2Bb%2Cc%22d%0Ae");
  EXPECT_EQ(s3_event_key("caf\xc3\xa9"), "caf%C3%A9");
}

TEST(S3EventTest, EventNamesOfWhatS3Notifies) {
  EXPECT_EQ(s3_event_name(put(1)), "ObjectCreated:Put");
  EXPECT_EQ(s3_event_name(copy(2)), "ObjectCreated:Copy");
  EXPECT_EQ(s3_event_name(multipart(3)), "ObjectCreated:CompleteMultipartUpload");
  EXPECT_EQ(s3_event_name(deleted(6)), "ObjectRemoved:Delete");
  EXPECT_EQ(s3_event_name(migrated(9)), "LifecycleTransition");
  EXPECT_EQ(s3_event_name(restore_requested(10)), "ObjectRestore:Post");
  EXPECT_EQ(s3_event_name(restored(11)), "ObjectRestore:Completed");
  EXPECT_EQ(s3_event_name(restore_expired(12)), "ObjectRestore:Delete");
  proto::Event tagged = envelope(13);
  tagged.mutable_artifact_tagged()->add_tags()->set_key("k");
  EXPECT_EQ(s3_event_name(tagged), "ObjectTagging:Put");
  tagged.mutable_artifact_tagged()->clear_tags();
  EXPECT_EQ(s3_event_name(tagged), "ObjectTagging:Delete");
}

TEST(S3EventTest, NoRecordForWhatS3DoesNotNotify) {
  for (const auto& e : {read(4, false), read(5, true), listed(7), container_deleted(8)}) {
    EXPECT_EQ(s3_event_name(e), "");
    EXPECT_FALSE(s3_event_record(e, "us-east-1", {}));
  }
}

TEST(S3EventTest, RecordHasTheNotificationShape) {
  const auto record = s3_event_record(multipart(0x1234), "eu-west-1", {});
  ASSERT_TRUE(record);
  const nlohmann::json& r = *record;
  EXPECT_EQ(r["eventVersion"], "2.1");
  EXPECT_EQ(r["eventSource"], "aws:s3");
  EXPECT_EQ(r["awsRegion"], "eu-west-1");
  EXPECT_EQ(r["eventTime"], "2026-11-21T00:00:00.123Z");
  EXPECT_EQ(r["eventName"], "ObjectCreated:CompleteMultipartUpload");
  EXPECT_EQ(r["userIdentity"]["principalId"], "VKEY");
  EXPECT_EQ(r["requestParameters"]["sourceIPAddress"], "203.0.113.7");
  EXPECT_EQ(r["responseElements"]["x-amz-request-id"], "REQ1");
  const nlohmann::json& s3 = r["s3"];
  EXPECT_EQ(s3["s3SchemaVersion"], "1.0");
  EXPECT_EQ(s3["configurationId"], "vaultaire");
  EXPECT_EQ(s3["bucket"]["name"], "pics");
  EXPECT_EQ(s3["bucket"]["arn"], "arn:aws:s3:::pics");
  EXPECT_EQ(s3["bucket"]["ownerIdentity"]["principalId"], "acme");
  EXPECT_EQ(s3["object"]["key"], "photos/cat.jpg");
  EXPECT_EQ(s3["object"]["size"], 15);
  EXPECT_EQ(s3["object"]["eTag"], "abc");
  EXPECT_EQ(s3["object"]["sequencer"], "0000000000001234");
}

TEST(S3EventTest, DeleteHasNoSizeNorETag) {
  const auto record = s3_event_record(deleted(6), "us-east-1", {});
  ASSERT_TRUE(record);
  const nlohmann::json& object = (*record)["s3"]["object"];
  EXPECT_FALSE(object.contains("size"));
  EXPECT_FALSE(object.contains("eTag"));
  EXPECT_EQ(object["sequencer"], "0000000000000006");
}

TEST(S3EventTest, TransitionNamesTheDestinationStorageClass) {
  const StorageClasses classes = {{"hot", "STANDARD"}, {"cold", "GLACIER_IR"}};
  const auto record = s3_event_record(migrated(9), "us-east-1", classes);
  ASSERT_TRUE(record);
  EXPECT_EQ((*record)["lifecycleEventData"]["transitionEventData"]["destinationStorageClass"],
            "GLACIER_IR");
  EXPECT_EQ((*record)["s3"]["object"]["size"], 5);
  EXPECT_EQ(storage_class_of(classes, "vault9"), "vault9");
}

}  // namespace
}  // namespace vaultaire::vaultctl
