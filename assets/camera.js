/* "Use camera" on the Predict tab: one frame from getUserMedia, sent only when the shutter is pressed.
   The frame goes to the same callback as an upload, through the camera-frame store. */
(function () {
  var stream = null;

  function element(id) {
    return document.getElementById(id);
  }

  function say(text) {
    element("camera-message").textContent = text;
  }

  function stop() {
    if (stream) {
      stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
    }
    element("camera-panel").style.display = "none";
  }

  function open() {
    element("camera-panel").style.display = "block";
    element("camera-shutter").disabled = true;
    if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      say("The camera only works on https:// or on localhost; this page is " + location.origin + ". Upload a photo instead.");
      return;
    }
    say("Waiting for the camera...");
    navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false })
      .then(function (media) {
        stream = media;
        var video = element("camera-video");
        video.srcObject = media;
        video.play();
        element("camera-shutter").disabled = false;
        say("Nothing is sent until you press Take photo.");
      })
      .catch(function (error) {
        var denied = error && (error.name === "NotAllowedError" || error.name === "SecurityError");
        say(denied ? "Camera permission was denied: allow it in the browser's site settings, or upload a photo."
                   : "No camera could be opened (" + (error && error.name) + "). Upload a photo instead.");
      });
  }

  function shoot() {
    var video = element("camera-video");
    if (!stream || !video.videoWidth) {
      return;
    }
    var canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    var frame = canvas.toDataURL("image/jpeg", 0.92);
    stop();
    window.dash_clientside.set_props("camera-frame", { data: frame });
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest("#camera-open")) { open(); }
    else if (event.target.closest("#camera-shutter")) { shoot(); }
    else if (event.target.closest("#camera-close")) { stop(); }
  });
})();
