"""gdm.scripted"""
