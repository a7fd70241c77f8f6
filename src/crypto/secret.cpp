#include "bulwark/crypto/secret.hpp"

namespace bulwark::crypto::testing {

namespace detail {
std::atomic<SecretReleaseObserver> secret_release_observer{nullptr};
}  // namespace detail

void set_secret_release_observer(SecretReleaseObserver observer) noexcept {
  detail::secret_release_observer.store(observer, std::memory_order_relaxed);
}

}  // namespace bulwark::crypto::testing
