"""Adapters at the edge: the only modules that import oss2, the ECS SDK and mns.

Each SDK is imported when its client is first built, so a handler that needs no ECS call never
pays for loading the ECS SDK.
"""
