"""gdm.models"""
