"""gdm.store"""
