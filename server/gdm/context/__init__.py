"""gdm.context"""
