"""Shared by the load clients of the command tests (tls_flooder.py, idle_holder.py): imported
from their own directory, which python puts first on the module path."""
import os
import ssl


def unverified_client_context():
    """A TLS client context that checks nothing about the server: these clients load the
    server, its identity is not what they test."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def write_atomically(path, text):
    """Readers polling PATH see the old text or the new one, never a part."""
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)
