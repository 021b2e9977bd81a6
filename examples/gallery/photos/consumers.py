from channels.generic.websocket import AsyncJsonWebsocketConsumer


class PhotoFeed(AsyncJsonWebsocketConsumer):
    """Pushes each new thumbnail to every open page."""

    async def connect(self) -> None:
        await self.channel_layer.group_add("photos", self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard("photos", self.channel_name)

    async def photo_added(self, event: dict) -> None:
        await self.send_json({"id": event["id"], "thumbnail": event["thumbnail"]})
