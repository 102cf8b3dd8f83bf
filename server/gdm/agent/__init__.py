"""gdm.agent"""
