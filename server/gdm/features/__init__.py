"""gdm.features"""
