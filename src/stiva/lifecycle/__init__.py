"""ECR lifecycle policies, pure: the policy grammar, and the evaluator (policy, images, now)."""
