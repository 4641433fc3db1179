"""Wire-level fakes of the gateways' HTTP APIs: the edge of the world the tests do not run
(docs/testing.md). The real SDKs talk to them over HTTP on 127.0.0.1."""
