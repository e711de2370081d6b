// The developer console's package drop zone: a file dropped anywhere on the zone goes into its file input
// (which stays a normal, labelled input for keyboard and click), and the chosen file is named with its size.
// Listeners sit on the document, so zones rendered later (an enhanced page load) work as well.
(function () {
  'use strict';
  if (window.pitrixDropZone) {
    return;
  }
  window.pitrixDropZone = true;

  function zoneOf(event) {
    return event.target instanceof Element ? event.target.closest('[data-dropzone]') : null;
  }

  function hasFiles(event) {
    return event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types || [], 'Files') >= 0;
  }

  function describe(zone) {
    var input = zone.querySelector('input[type=file]');
    var output = zone.querySelector('[data-dropzone-file]');
    if (!input || !output) {
      return;
    }
    var file = input.files && input.files[0];
    var max = Number(zone.getAttribute('data-max-bytes')) || 0;
    input.setCustomValidity('');
    zone.classList.remove('px-dropzone-invalid');
    if (!file) {
      output.textContent = '';
      return;
    }
    var size = file.size < 1024 * 1024 ? (file.size / 1024).toFixed(1) + ' KiB' : (file.size / (1024 * 1024)).toFixed(1) + ' MiB';
    if (max > 0 && file.size > max) {
      var message = file.name + ' is ' + size + ': larger than the ' + (max / (1024 * 1024)).toFixed(0) + ' MiB a package may be.';
      input.setCustomValidity(message);
      zone.classList.add('px-dropzone-invalid');
      output.textContent = message;
      return;
    }
    output.textContent = 'Selected: ' + file.name + ' (' + size + ')';
  }

  ['dragenter', 'dragover'].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var zone = zoneOf(event);
      if (zone && hasFiles(event)) {
        event.preventDefault();
        event.dataTransfer.dropEffect = 'copy';
        zone.classList.add('px-dropzone-active');
      }
    });
  });

  document.addEventListener('dragleave', function (event) {
    var zone = zoneOf(event);
    if (zone && !(event.relatedTarget instanceof Node && zone.contains(event.relatedTarget))) {
      zone.classList.remove('px-dropzone-active');
    }
  });

  document.addEventListener('drop', function (event) {
    var zone = zoneOf(event);
    if (!zone) {
      return;
    }
    zone.classList.remove('px-dropzone-active');
    var input = zone.querySelector('input[type=file]');
    if (!input || !event.dataTransfer || !event.dataTransfer.files || event.dataTransfer.files.length === 0) {
      return;
    }
    event.preventDefault();

    // One package per upload: the first file dropped.
    var files = new DataTransfer();
    files.items.add(event.dataTransfer.files[0]);
    input.files = files.files;
    input.dispatchEvent(new Event('change', { bubbles: true }));
    input.focus();
  });

  document.addEventListener('change', function (event) {
    if (event.target instanceof HTMLInputElement && event.target.type === 'file') {
      var zone = event.target.closest('[data-dropzone]');
      if (zone) {
        describe(zone);
      }
    }
  });
})();
