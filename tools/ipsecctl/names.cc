#include "tools/ipsecctl/names.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/algorithms.h"
#include "google/protobuf/descriptor.h"

namespace ikeless::ipsecctl {
namespace {

using google::protobuf::EnumDescriptor;
using google::protobuf::EnumValueDescriptor;

// "MODE_TUNNEL" with prefix "MODE_" -> "tunnel".
std::string OperatorName(const EnumValueDescriptor& value, absl::string_view prefix) {
  absl::string_view name = value.name();
  if (absl::StartsWith(name, prefix)) name.remove_prefix(prefix.size());
  return absl::StrReplaceAll(absl::AsciiStrToLower(name), {{"_", "-"}});
}

std::string NameOf(const EnumDescriptor* type, int number, absl::string_view prefix) {
  if (number == 0) return "-";
  const EnumValueDescriptor* value = type->FindValueByNumber(number);
  if (value == nullptr) return absl::StrCat("unknown(", number, ")");
  return OperatorName(*value, prefix);
}

// Every nonzero value's operator name, comma separated.
std::string NamesOf(const EnumDescriptor* type, absl::string_view prefix) {
  std::string out;
  for (int i = 0; i < type->value_count(); ++i) {
    const EnumValueDescriptor& value = *type->value(i);
    if (value.number() == 0) continue;
    absl::StrAppend(&out, out.empty() ? "" : ", ", OperatorName(value, prefix));
  }
  return out;
}

absl::StatusOr<int> ParseName(const EnumDescriptor* type, absl::string_view prefix,
                              absl::string_view text) {
  std::string wanted = absl::AsciiStrToLower(text);
  for (int i = 0; i < type->value_count(); ++i) {
    const EnumValueDescriptor& value = *type->value(i);
    if (value.number() != 0 && OperatorName(value, prefix) == wanted) return value.number();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("'", text.substr(0, 32), "' is not one of: ", NamesOf(type, prefix)));
}

constexpr absl::string_view kProtocolPrefix = "IPSEC_PROTOCOL_";
constexpr absl::string_view kModePrefix = "MODE_";
constexpr absl::string_view kActionPrefix = "POLICY_ACTION_";

}  // namespace

std::string ProtocolName(v1::IpsecProtocol protocol) {
  return NameOf(v1::IpsecProtocol_descriptor(), protocol, kProtocolPrefix);
}

std::string ModeName(v1::Mode mode) { return NameOf(v1::Mode_descriptor(), mode, kModePrefix); }

std::string EncryptionName(v1::EncryptionAlgorithm encryption) {
  if (encryption == v1::ENCRYPTION_UNSPECIFIED) return "-";
  const EncryptionInfo* info = FindEncryption(encryption);
  return info != nullptr ? std::string(info->name)
                         : absl::StrCat("unknown(", static_cast<int>(encryption), ")");
}

std::string IntegrityName(v1::IntegrityAlgorithm integrity) {
  if (integrity == v1::INTEGRITY_UNSPECIFIED) return "-";
  const IntegrityInfo* info = FindIntegrity(integrity);
  return info != nullptr ? std::string(info->name)
                         : absl::StrCat("unknown(", static_cast<int>(integrity), ")");
}

std::string StateName(v1::Association::State state) {
  return NameOf(v1::Association::State_descriptor(), state, "");
}

std::string EventKindName(v1::Event::Kind kind) {
  return NameOf(v1::Event::Kind_descriptor(), kind, "");
}

std::string ActionName(v1::PolicyAction action) {
  // proto/policy.proto: POLICY_ACTION_UNSPECIFIED means PROTECT.
  if (action == v1::POLICY_ACTION_UNSPECIFIED) action = v1::POLICY_ACTION_PROTECT;
  return NameOf(v1::PolicyAction_descriptor(), action, kActionPrefix);
}

absl::StatusOr<v1::IpsecProtocol> ParseProtocol(absl::string_view text) {
  auto number = ParseName(v1::IpsecProtocol_descriptor(), kProtocolPrefix, text);
  if (!number.ok()) return number.status();
  return static_cast<v1::IpsecProtocol>(*number);
}

absl::StatusOr<v1::Mode> ParseMode(absl::string_view text) {
  auto number = ParseName(v1::Mode_descriptor(), kModePrefix, text);
  if (!number.ok()) return number.status();
  return static_cast<v1::Mode>(*number);
}

absl::StatusOr<v1::PolicyAction> ParseAction(absl::string_view text) {
  auto number = ParseName(v1::PolicyAction_descriptor(), kActionPrefix, text);
  if (!number.ok()) return number.status();
  return static_cast<v1::PolicyAction>(*number);
}

absl::StatusOr<v1::EncryptionAlgorithm> ParseEncryption(absl::string_view text) {
  const EncryptionInfo* info = FindEncryption(absl::AsciiStrToLower(text));
  if (info == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown algorithm '", text.substr(0, 32), "'; valid: ", EncryptionNames()));
  }
  return info->id;
}

absl::StatusOr<v1::IntegrityAlgorithm> ParseIntegrity(absl::string_view text) {
  const IntegrityInfo* info = FindIntegrity(absl::AsciiStrToLower(text));
  if (info == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown algorithm '", text.substr(0, 32), "'; valid: ", IntegrityNames()));
  }
  return info->id;
}

std::string ProtocolNames() { return NamesOf(v1::IpsecProtocol_descriptor(), kProtocolPrefix); }

std::string ModeNames() { return NamesOf(v1::Mode_descriptor(), kModePrefix); }

std::string ActionNames() { return NamesOf(v1::PolicyAction_descriptor(), kActionPrefix); }

}  // namespace ikeless::ipsecctl
