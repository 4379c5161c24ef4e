"""The five-step cycle: facts, joint situation picture, action plans, operational work, evaluation."""
