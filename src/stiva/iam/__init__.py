"""Pure identity and access code: SigV4 verification, registry tokens, (later) the policy engine."""
