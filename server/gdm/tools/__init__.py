"""gdm.tools"""
