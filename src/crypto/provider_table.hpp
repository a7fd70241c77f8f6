// Internal: the functions of one algorithm in a provider's table (provider(7)), for the hot
// paths that call a provider without EVP's per-call work: crypto::Aead and the X25519
// KeyShare (see DECISIONS.md). Not a public header.
#pragma once

#include <openssl/core.h>
#include <openssl/provider.h>

#include <algorithm>
#include <string>
#include <string_view>

namespace bulwark::crypto::ossl {

// Calls `take(entry)` for each function of the first algorithm of `operation` in `prov` that
// has a name `is_name(const char*)` accepts; false when no algorithm has. The check goes name
// by name through the colon-separated list, so with EVP_*_is_a as `is_name` libcrypto's name
// map matches any alias, whichever one the provider registered.
template <class IsName, class Take>
bool take_functions(const OSSL_PROVIDER* prov, int operation, IsName is_name, Take take) {
  if (prov == nullptr) return false;
  int no_store = 0;
  const OSSL_ALGORITHM* algs = OSSL_PROVIDER_query_operation(prov, operation, &no_store);
  bool found = false;
  for (const OSSL_ALGORITHM* a = algs; a != nullptr && a->algorithm_names != nullptr; ++a) {
    std::string_view names = a->algorithm_names;
    while (!found && !names.empty()) {
      const std::size_t colon = std::min(names.find(':'), names.size());
      found = is_name(std::string(names.substr(0, colon)).c_str());
      names.remove_prefix(std::min(colon + 1, names.size()));
    }
    if (!found) continue;
    for (const OSSL_DISPATCH* f = a->implementation; f->function_id != 0; ++f)
      take(*f);
    break;
  }
  if (algs != nullptr) OSSL_PROVIDER_unquery_operation(prov, operation, algs);
  return found;
}

}  // namespace bulwark::crypto::ossl
