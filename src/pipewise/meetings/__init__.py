"""Meetings: availability, booking pages, slots, bookings and calendar invitations."""
