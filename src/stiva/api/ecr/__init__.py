"""api/ecr"""
