#include "sip/message.h"

#include "sip/internal/lex.h"

namespace sipring::sip {

const Header* Message::FindByName(std::string_view name) const {
  if (!sip_internal::IsTokenString(name)) return nullptr;  // LookupHeaderId wants a token
  const HeaderId id = LookupHeaderId(name);
  if (id != HeaderId::kOther) return Find(id);
  for (uint16_t i = 0; i < header_count; ++i) {
    if (headers[i].id == HeaderId::kOther && sip_internal::EqualsIgnoreCase(headers[i].name, name)) {
      return &headers[i];
    }
  }
  return nullptr;
}

}  // namespace sipring::sip
