"""gdm.patches"""
