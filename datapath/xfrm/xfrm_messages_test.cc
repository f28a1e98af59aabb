#include "datapath/xfrm/xfrm_messages.h"

#include <arpa/inet.h>
#include <linux/udp.h>

#include <cstring>
#include <random>

#include "gtest/gtest.h"

namespace ikeless::datapath::xfrm {
namespace {

// The payload of attribute `type` in `m` (after a body of `body` octets).
std::string Attr(const NetlinkMessage& m, size_t body, uint16_t type) {
  const char* base = static_cast<const char*>(m.data());
  size_t at = NLMSG_LENGTH(NLMSG_ALIGN(body));
  while (at + NLA_HDRLEN <= m.size()) {
    const auto* a = reinterpret_cast<const nlattr*>(base + at);
    if (a->nla_type == type) return std::string(base + at + NLA_HDRLEN, a->nla_len - NLA_HDRLEN);
    at += NLA_ALIGN(a->nla_len);
  }
  return "";
}

v1::SaParameters GcmSa() {
  v1::SaParameters sa;
  sa.set_spi(0x1234);
  sa.set_source("198.18.0.1");
  sa.set_destination("198.18.0.2");
  sa.set_mode(v1::MODE_TUNNEL);
  sa.set_encryption(v1::ENCRYPTION_AES_GCM_16);
  sa.set_encryption_key(std::string("0123456789abcdef"));
  sa.set_salt("SALT");
  sa.set_extended_sequence_numbers(true);
  sa.mutable_lifetime()->set_hard_seconds(100);
  sa.mutable_lifetime()->set_hard_bytes(1 << 20);
  return sa;
}

TEST(XfrmMessages, GcmStateCarriesKeySaltEsnLifetimesAndEncap) {
  auto m = StateMessage(GcmSa(), StateOptions{0x1e50007, 4500, 4500}, false);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->header()->nlmsg_type, XFRM_MSG_NEWSA);
  auto* info = m->body<xfrm_usersa_info>();
  EXPECT_EQ(ntohl(info->id.spi), 0x1234u);
  EXPECT_EQ(info->id.proto, IPPROTO_ESP);
  EXPECT_EQ(info->family, AF_INET);
  EXPECT_EQ(info->mode, XFRM_MODE_TUNNEL);
  EXPECT_EQ(info->reqid, 0x1e50007u);
  EXPECT_TRUE(info->flags & XFRM_STATE_ESN);
  EXPECT_TRUE(info->flags & XFRM_STATE_AF_UNSPEC) << "tunnel: inner family may differ";
  EXPECT_EQ(info->lft.hard_packet_limit, XFRM_INF) << "ESN: no 32-bit wrap to avoid";
  EXPECT_EQ(info->replay_window, 0) << "ESN states keep the legacy window at 0";
  EXPECT_EQ(info->lft.hard_add_expires_seconds, 100u);
  EXPECT_EQ(info->lft.soft_add_expires_seconds, 90u) << "soft defaults to 90 % of hard";
  EXPECT_EQ(info->lft.hard_byte_limit, 1u << 20);
  EXPECT_EQ(info->lft.soft_packet_limit, XFRM_INF);

  std::string aead = Attr(*m, sizeof(xfrm_usersa_info), XFRMA_ALG_AEAD);
  ASSERT_EQ(aead.size(), sizeof(xfrm_algo_aead) + 20);
  xfrm_algo_aead head;
  std::memcpy(&head, aead.data(), sizeof head);
  EXPECT_STREQ(head.alg_name, "rfc4106(gcm(aes))");
  EXPECT_EQ(head.alg_key_len, 160u) << "key and salt (RFC 4106 §8.1)";
  EXPECT_EQ(head.alg_icv_len, 128u);
  EXPECT_EQ(aead.substr(sizeof head), "0123456789abcdefSALT");

  std::string esn = Attr(*m, sizeof(xfrm_usersa_info), XFRMA_REPLAY_ESN_VAL);
  ASSERT_GE(esn.size(), sizeof(xfrm_replay_state_esn));
  xfrm_replay_state_esn r;
  std::memcpy(&r, esn.data(), sizeof r);
  EXPECT_EQ(r.replay_window, 128u) << "RFC 4303 default when the SA says 0";
  EXPECT_EQ(r.bmp_len, 4u);
  EXPECT_EQ(esn.size(), sizeof r + 16);

  std::string encap = Attr(*m, sizeof(xfrm_usersa_info), XFRMA_ENCAP);
  ASSERT_EQ(encap.size(), sizeof(xfrm_encap_tmpl));
  xfrm_encap_tmpl e;
  std::memcpy(&e, encap.data(), sizeof e);
  EXPECT_EQ(e.encap_type, UDP_ENCAP_ESPINUDP);
  EXPECT_EQ(ntohs(e.encap_dport), 4500);
  EXPECT_TRUE(Attr(*m, sizeof(xfrm_usersa_info), XFRMA_ALG_CRYPT).empty());
}

TEST(XfrmMessages, CbcStateHasCipherAndTruncatedHmacAndNoEncapForRawEsp) {
  v1::SaParameters sa = GcmSa();
  sa.set_encryption(v1::ENCRYPTION_AES_CBC);
  sa.clear_salt();
  sa.set_integrity(v1::INTEGRITY_HMAC_SHA2_256_128);
  sa.set_integrity_key(std::string(32, 'i'));
  sa.set_source("fd00::1");
  sa.set_destination("fd00::2");
  sa.set_mode(v1::MODE_TRANSPORT);
  sa.set_extended_sequence_numbers(false);
  auto m = StateMessage(sa, StateOptions{7, 0, 0}, /*update=*/true);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->header()->nlmsg_type, XFRM_MSG_UPDSA);
  EXPECT_EQ(m->body<xfrm_usersa_info>()->family, AF_INET6);
  EXPECT_EQ(m->body<xfrm_usersa_info>()->mode, XFRM_MODE_TRANSPORT);
  EXPECT_FALSE(m->body<xfrm_usersa_info>()->flags & XFRM_STATE_AF_UNSPEC);
  // Without ESN the 32-bit counter must not wrap: rekey at 15/16, stop
  // before 2^32 (RFC 4303 §3.3.3), as the engine does.
  EXPECT_EQ(m->body<xfrm_usersa_info>()->lft.soft_packet_limit, (1ull << 32) - (1ull << 28));
  EXPECT_EQ(m->body<xfrm_usersa_info>()->lft.hard_packet_limit, (1ull << 32) - 1);
  std::string crypt = Attr(*m, sizeof(xfrm_usersa_info), XFRMA_ALG_CRYPT);
  ASSERT_EQ(crypt.size(), sizeof(xfrm_algo) + 16);
  EXPECT_STREQ(reinterpret_cast<const xfrm_algo*>(crypt.data())->alg_name, "cbc(aes)");
  std::string auth = Attr(*m, sizeof(xfrm_usersa_info), XFRMA_ALG_AUTH_TRUNC);
  ASSERT_EQ(auth.size(), sizeof(xfrm_algo_auth) + 32);
  xfrm_algo_auth a;
  std::memcpy(&a, auth.data(), sizeof a);
  EXPECT_STREQ(a.alg_name, "hmac(sha256)");
  EXPECT_EQ(a.alg_key_len, 256u);
  EXPECT_EQ(a.alg_trunc_len, 128u);
  EXPECT_TRUE(Attr(*m, sizeof(xfrm_usersa_info), XFRMA_ENCAP).empty());
}

TEST(XfrmMessages, BadStatesNameTheField) {
  v1::SaParameters sa = GcmSa();
  sa.set_spi(255);
  EXPECT_NE(StateMessage(sa, {}, false).status().message().find("spi"), std::string::npos);
  sa = GcmSa();
  sa.set_replay_window(5000);
  EXPECT_NE(StateMessage(sa, {}, false).status().message().find("replay_window"), std::string::npos);
  sa = GcmSa();
  sa.set_destination("fd00::2");
  EXPECT_NE(StateMessage(sa, {}, false).status().message().find("destination"), std::string::npos);
  sa = GcmSa();
  sa.set_source("198.18.0.300");
  EXPECT_NE(StateMessage(sa, {}, false).status().message().find("source"), std::string::npos);
}

TEST(XfrmMessages, PolicyRoundTripsThroughTheParser) {
  PolicySpec p;
  p.dir = XFRM_POLICY_OUT;
  p.source_prefix = "198.18.10.0/24";
  p.destination_prefix = "198.18.20.0/24";
  p.protocol = IPPROTO_TCP;
  p.destination_port = 443;
  p.priority = 1003;
  p.reqid = 0x1e50003;
  p.tunnel_source = "198.18.0.1";
  p.tunnel_destination = "198.18.0.2";
  auto m = UpdatePolicyMessage(p);
  ASSERT_TRUE(m.ok()) << m.status();
  auto* info = m->body<xfrm_userpolicy_info>();
  EXPECT_EQ(info->sel.prefixlen_d, 24);
  EXPECT_EQ(ntohs(info->sel.dport), 443);
  EXPECT_EQ(info->sel.dport_mask, 0xffff);
  EXPECT_EQ(info->sel.sport_mask, 0);
  EXPECT_EQ(info->action, XFRM_POLICY_ALLOW);
  m->header()->nlmsg_type = XFRM_MSG_NEWPOLICY;  // as a dump returns it
  info->index = 42;
  auto parsed = ParsePolicy(m->header());
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->index, 42u);
  EXPECT_EQ(parsed->dir, XFRM_POLICY_OUT);
  ASSERT_EQ(parsed->reqids.size(), 1u);
  EXPECT_EQ(parsed->reqids[0], 0x1e50003u);

  p.source_port = 1;
  p.protocol = IPPROTO_ICMP;
  EXPECT_NE(UpdatePolicyMessage(p).status().message().find("protocol"), std::string::npos);
  p.protocol = 0;
  p.source_port = 0;
  p.destination_prefix = "fd00::/8";
  EXPECT_NE(UpdatePolicyMessage(p).status().message().find("destination_prefix"), std::string::npos);
}

TEST(XfrmMessages, AcquireIsParsedWithTheTemplateReqid) {
  NetlinkMessage m(XFRM_MSG_ACQUIRE, 0, sizeof(xfrm_user_acquire));
  auto* a = m.body<xfrm_user_acquire>();
  a->sel.family = AF_INET;
  inet_pton(AF_INET, "198.18.10.2", &a->sel.saddr);
  inet_pton(AF_INET, "198.18.20.2", &a->sel.daddr);
  inet_pton(AF_INET, "198.18.0.1", &a->saddr);
  inet_pton(AF_INET, "198.18.0.2", &a->id.daddr);
  a->policy.index = 9;
  xfrm_user_tmpl t{};
  t.family = AF_INET;
  t.reqid = 0x1e50005;
  ASSERT_TRUE(m.AddAttr(XFRMA_TMPL, &t, sizeof t));
  auto k = ParseAcquire(m.header());
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->reqid, 0x1e50005u);
  EXPECT_EQ(k->policy_index, 9u);
  EXPECT_EQ(k->inner_destination, "198.18.20.2");
  EXPECT_EQ(k->outer_source, "198.18.0.1");
  EXPECT_EQ(k->outer_destination, "198.18.0.2");
  EXPECT_FALSE(ParseExpire(m.header()).has_value()) << "another type";
  m.header()->nlmsg_len = NLMSG_LENGTH(sizeof(xfrm_user_acquire) - 1);
  EXPECT_FALSE(ParseAcquire(m.header()).has_value()) << "too short";
}

TEST(XfrmMessages, GarbageFromTheKernelSocketNeverCrashesTheParsers) {
  std::mt19937 rng(7);
  alignas(8) unsigned char buf[1024];
  for (int i = 0; i < 20000; ++i) {
    for (auto& b : buf) b = static_cast<unsigned char>(rng());
    auto* h = reinterpret_cast<nlmsghdr*>(buf);
    h->nlmsg_len = static_cast<uint32_t>(rng() % sizeof buf);
    const uint16_t types[] = {XFRM_MSG_ACQUIRE, XFRM_MSG_EXPIRE, XFRM_MSG_NEWSA, XFRM_MSG_NEWPOLICY};
    h->nlmsg_type = types[i % 4];
    (void)ParseAcquire(h);
    (void)ParseExpire(h);
    (void)ParseState(h);
    (void)ParsePolicy(h);
  }
}

TEST(XfrmMessages, MovedFromMessageIsWiped) {
  auto m = StateMessage(GcmSa(), {}, false);
  ASSERT_TRUE(m.ok());
  NetlinkMessage taken(std::move(*m));
  const auto* old = static_cast<const unsigned char*>(m->data());
  for (size_t i = 0; i < 256; ++i) ASSERT_EQ(old[i], 0) << "byte " << i;
  EXPECT_NE(Attr(taken, sizeof(xfrm_usersa_info), XFRMA_ALG_AEAD).find("0123456789abcdef"),
            std::string::npos);
}

}  // namespace
}  // namespace ikeless::datapath::xfrm
